operator = 1
