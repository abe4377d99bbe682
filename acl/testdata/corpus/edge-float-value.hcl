operator = 1.5
