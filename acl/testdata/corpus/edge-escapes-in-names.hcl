service "a\tb\u00e9" { policy = "read" }
node "\"quoted\"" { policy = "read" }
