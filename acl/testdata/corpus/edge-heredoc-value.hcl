peering = <<EOF
read
EOF
