"""Similar-deal search: deal texts, the embedding model, the vector index and the service
that keeps the index in step with the database. Free of Textual."""
