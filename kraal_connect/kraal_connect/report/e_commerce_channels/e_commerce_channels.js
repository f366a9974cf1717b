frappe.query_reports["E-commerce Channels"] = {
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
			fieldname: "as_of",
			label: __("Orders Up To"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
		},
	],
	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		if (column.fieldname === "status" && data) {
			const colour = { Active: "green", Disabled: "grey" }[data.status] || "orange";
			value = `<span class="indicator-pill ${colour}">${value}</span>`;
		}
		if (column.fieldname === "stock_differences" && data && data.stock_differences) {
			value = `<span class="text-danger">${value}</span>`;
		}
		return value;
	},
};
