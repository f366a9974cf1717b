frappe.query_reports["QuickBooks Reconciliation"] = {
	filters: [
		{
			fieldname: "integration",
			label: __("Integration"),
			fieldtype: "Link",
			options: "Kraal Integration",
			get_query: () => ({ filters: { vendor: "QuickBooks Online" } }),
			reqd: 1,
		},
		{
			fieldname: "as_of_date",
			label: __("As Of Date"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
			reqd: 1,
		},
		{
			fieldname: "differing_only",
			label: __("Differing Accounts Only"),
			fieldtype: "Check",
		},
	],
	onload(report) {
		report.page.add_inner_button(__("Record Result on Integration"), () => {
			const { integration, as_of_date } = report.get_values();
			frappe.call({
				method: "kraal_connect.connectors.qbo.reconciliation.reconcile",
				args: { integration, as_of_date },
				freeze: true,
			}).then(({ message }) => frappe.msgprint(__("Migration status: {0} ({1} differing accounts, {2} differing items, {3} failed records)",
				[__(message.migration_status), message.differing_accounts, message.differing_items, message.failed_records])));
		});
	},
	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		if (column.fieldname === "status" && data) {
			value = `<span class="indicator-pill ${data.differs ? "red" : "green"}">${value}</span>`;
		}
		return value;
	},
};
