operator = true
