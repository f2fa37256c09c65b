"""probhealth: guided health screening and referral follow-up for people on probation.

Layers (data flows one way; see the README's "Architecture")::

    cli/            parse, one call into a service, render (probhealth NOUN -> cli/NOUN.py)
    services/       use cases, one module per noun (services/NOUN.py); definitions.py loads
                    questionnaires, rules and service files
    questionnaire/ rules/ directory/ expr.py   the pure core: no I/O
    store/          SQL only here: tables, queries per noun (store/NOUN.py); db.py opens it

Shared small modules (errors, clock, validation, paths, atomicfile...) sit at the top. Importing
this package imports nothing heavy.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
