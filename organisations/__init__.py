"""Organisations and annotation projects (知识共创, issue 15): who annotates and reviews what, for whom.

Organisations and projects are public RDF (credit must reach SPARQL); memberships are not
(``$GUJI_HOME/organisations.sqlite3``, like the user table). No HTTP here: ``api/routes/organisations.py``.
"""
