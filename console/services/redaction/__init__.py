"""Redaction rules that are not the core scan: names, street addresses, national IDs, NER.

`console.services.redact` is the public entry point; these modules are its parts.
"""
