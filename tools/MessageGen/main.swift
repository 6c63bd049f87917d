print("MessageGen placeholder")
