keyring = "nope"
