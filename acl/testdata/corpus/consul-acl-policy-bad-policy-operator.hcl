operator = "nope"
