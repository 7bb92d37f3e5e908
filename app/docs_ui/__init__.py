"""The API documentation pages (Swagger UI at /docs, ReDoc at /redoc), served with no request
leaving the machine: their scripts and styles come installed with the service."""
