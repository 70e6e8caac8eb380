"""`sla density`: the autoencoder family as density models on binarized MNIST (DAE, MADE, VAE)."""
