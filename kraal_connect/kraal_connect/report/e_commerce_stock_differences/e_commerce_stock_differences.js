frappe.query_reports["E-commerce Stock Differences"] = {
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
			fieldname: "warehouse",
			label: __("Warehouse"),
			fieldtype: "Link",
			options: "Warehouse",
		},
	],
};
