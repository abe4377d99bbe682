keyring = ""
