agent "" {
   policy = "read"
}
