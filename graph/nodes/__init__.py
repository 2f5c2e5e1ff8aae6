"""The healing graph's nodes, one module each; every node is a plain function of state."""
