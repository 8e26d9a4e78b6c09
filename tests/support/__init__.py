"""What the tests share: factories, socket clients, files, commands, the walkthrough map."""
