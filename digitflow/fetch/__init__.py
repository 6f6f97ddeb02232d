"""Getting the raw MNIST files: sources, HTTP fetching, md5-verified download, Kaggle CSV
conversion. Imports the dataset format and the shared plumbing only."""
