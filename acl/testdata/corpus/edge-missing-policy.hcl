key_prefix "app/" {
}
