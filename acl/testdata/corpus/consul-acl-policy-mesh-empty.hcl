mesh = ""
