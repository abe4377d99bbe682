mesh = "nope"
