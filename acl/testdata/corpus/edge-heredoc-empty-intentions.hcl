service "web" {
  policy = "read"
  intentions = <<EOF
EOF
}
