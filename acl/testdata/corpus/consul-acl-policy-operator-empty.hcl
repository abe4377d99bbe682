operator = ""
