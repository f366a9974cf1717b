// Only the integration's company's own records: a target of another company would book the integration's
// records into that company's books (the server refuses it too, see kraal_account_mapping.py).
const GROUPED = ["Account", "Warehouse", "Cost Center"];
const COMPANY_OWNED = [...GROUPED, "Bank Account", "Sales Taxes and Charges Template",
	"Purchase Taxes and Charges Template", "Item Tax Template"];

frappe.ui.form.on("Kraal Account Mapping", {
	setup(frm) {
		frm.set_query("target_name", () => {
			if (!COMPANY_OWNED.includes(frm.doc.target_doctype) || !frm.doc.company) return {};
			const filters = { company: frm.doc.company };
			if (GROUPED.includes(frm.doc.target_doctype)) filters.is_group = 0;
			return { filters };
		});
	},
	target_doctype(frm) {
		frm.set_value("target_name", null);
	},
});
