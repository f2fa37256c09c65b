"""probhealth: guided health screening and referral follow-up for people on probation.

The package is layered (see the README's "Architecture"): ``cli`` parses and renders,
``expr``/``questionnaire``/``rules`` are pure, the service modules (``people``, ``screening``,
``referrals``...) combine the core with ``store``, which alone talks to the database.
Importing this package imports nothing heavy.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
