frappe.query_reports["E-commerce Revenue"] = {
	filters: [
		{
			fieldname: "company",
			label: __("Company"),
			fieldtype: "Link",
			options: "Company",
		},
		{
			fieldname: "integration",
			label: __("Channel"),
			fieldtype: "Link",
			options: "Kraal Integration",
			get_query: () => ({ filters: { vendor: ["in", ["Shopify", "Amazon"]] } }),
		},
		{
			fieldname: "from_date",
			label: __("From Date"),
			fieldtype: "Date",
			// The year to date: what the workspace's Revenue by Channel chart shows.
			default: frappe.datetime.year_start(),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("To Date"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
			reqd: 1,
		},
	],
	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		if (column.fieldname === "net" && data) {
			value = `<b>${value}</b>`;
		}
		return value;
	},
};
