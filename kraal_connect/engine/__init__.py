"""The one sync engine every connector runs on.

Modules without a frappe import (errors, retry, records, sync, schedule) hold the logic and are
tested standalone; the others bind it to a site's database.
"""
