app_name = "kraal_connect"
app_title = "Kraal Connect"
app_publisher = "Kraal Connect"
app_description = "Bank feeds, accounting and e-commerce integrations that write native ERPNext documents"
app_email = "dev@kraal.invalid"
app_license = "mit"
required_apps = ["erpnext"]

# Every form: where a document an integration wrote came from, with a link to it at the vendor.
app_include_js = ["/assets/kraal_connect/js/document_sources.js"]

# The cron only looks at which integrations are due; each integration keeps its own frequency.
scheduler_events = {
	"cron": {
		"*/15 * * * *": [
			"kraal_connect.engine.scheduler.enqueue_due_syncs",
			"kraal_connect.engine.outbound.enqueue_waiting_pushes",
			"kraal_connect.engine.runner.enqueue_waiting_webhook_records",
		],
	},
	# Credentials still work and syncs are fresh; what is not is told once (engine/alerts).
	"daily": ["kraal_connect.engine.alerts.daily_health_check"],
}

# Documents that integrations may send back to their vendor (QuickBooks parallel-run, Shopify
# inventory); engine/outbound.py asks each integration whether it wants the change.
_PUSH_EVENTS = {
	event: "kraal_connect.engine.outbound.document_changed"
	for event in ("on_update", "on_submit", "on_update_after_submit", "on_cancel")
}
doc_events = {
	doctype: dict(_PUSH_EVENTS)
	for doctype in (
		"Customer",
		"Supplier",
		"Item",
		"Sales Invoice",
		"Purchase Invoice",
		"Payment Entry",
		"Journal Entry",
		"Stock Ledger Entry",
	)
}
# Invoice rows the engine writes against a Sales Order learn which order row they bill.
doc_events["Sales Invoice"]["before_validate"] = "kraal_connect.engine.document_rows.link_sales_order_rows"
