"""The JSON API under /api/ (docs/api.md): the editor's registry, validation and examples
(editor), saved scenarios (scenarios), stored run links (run_links), the plumbing every
endpoint shares (jsonapi), the request and response models (schemas) and the OpenAPI
description generated from the same declarations (openapi)."""
