frappe.query_reports["E-commerce Order Imports"] = {
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
			label: __("Ordered From"),
			fieldtype: "Date",
			default: frappe.datetime.add_months(frappe.datetime.get_today(), -1),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("Ordered To"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
			reqd: 1,
		},
	],
};
