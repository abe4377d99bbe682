key_prefix "app/${env}/" {
  policy = "read"
}
