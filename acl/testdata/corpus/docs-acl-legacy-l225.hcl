agent "<node name of agent>" {
  policy = "write"
}
node "" {
  policy = "read"
}
