app_name = "kraal_connect"
app_title = "Kraal Connect"
app_publisher = "Kraal Connect"
app_description = "Bank feeds, accounting and e-commerce integrations that write native ERPNext documents"
app_email = "dev@kraal.invalid"
app_license = "mit"
required_apps = ["erpnext"]

# The cron only looks at which integrations are due; each integration keeps its own frequency.
scheduler_events = {
	"cron": {
		"*/15 * * * *": ["kraal_connect.engine.scheduler.enqueue_due_syncs"],
	},
}
