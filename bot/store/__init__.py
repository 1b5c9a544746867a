"""Storage: repository protocols (`protocols`), value types (`models`), and the backends that implement them."""
