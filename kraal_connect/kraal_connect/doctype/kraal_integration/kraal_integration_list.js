// The status as a coloured indicator, so an integration that needs someone stands out in the list.
frappe.listview_settings["Kraal Integration"] = {
	add_fields: ["status"],
	colours: {
		"Not Connected": "gray",
		Active: "green",
		"Needs Attention": "yellow",
		"Needs Re-authentication": "orange",
		Error: "red",
		Disconnected: "gray",
	},
	get_indicator(doc) {
		const colour = frappe.listview_settings["Kraal Integration"].colours[doc.status] || "gray";
		return [__(doc.status), colour, `status,=,${doc.status}`];
	},
};
