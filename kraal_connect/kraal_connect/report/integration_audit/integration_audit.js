frappe.query_reports["Integration Audit"] = {
	filters: [
		{
			fieldname: "company",
			label: __("Company"),
			fieldtype: "Link",
			options: "Company",
			default: frappe.defaults.get_user_default("Company"),
		},
		{
			fieldname: "from_date",
			label: __("From Date"),
			fieldtype: "Date",
			default: frappe.datetime.add_months(frappe.datetime.get_today(), -1),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("To Date"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
			reqd: 1,
		},
		{
			fieldname: "document_type",
			label: __("Document Type"),
			fieldtype: "Link",
			options: "DocType",
			description: __("Empty: the bank, selling, buying, stock and master records integrations write"),
		},
		{
			fieldname: "source",
			label: __("Written By"),
			fieldtype: "Select",
			options: ["", "Integration", "People"],
		},
	],
	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		if (column.fieldname === "source" && data) {
			const colour = data.integration ? "blue" : "green";
			value = `<span class="indicator-pill ${colour}">${value}</span>`;
		}
		return value;
	},
};
