"""Items the platform already holds (posts, comments, profiles, media, public messages), their accounts and user notices."""
