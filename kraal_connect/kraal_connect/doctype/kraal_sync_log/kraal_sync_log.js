const KRAAL_API = "kraal_connect.api";
const STATUS_COLOURS = { Success: "green", Partial: "orange", Failed: "red", Running: "blue" };
const RECORD_COLOURS = { Open: "red", Fixed: "green", Dismissed: "gray", "Gone at Source": "gray" };

frappe.ui.form.on("Kraal Sync Log", {
	refresh(frm) {
		frm.page.set_indicator(__(frm.doc.status), STATUS_COLOURS[frm.doc.status]);
		frm.add_custom_button(__("Integration"), () =>
			frappe.set_route("Form", "Kraal Integration", frm.doc.integration));
		render_failed_records(frm);
	},
});

// The failed records this run failed, as they stand now, each open one with Retry (api.retry_failure,
// which queues it on its integration); their rows below keep what the run itself said.
function render_failed_records(frm) {
	const wrapper = frm.get_field("failed_records").$wrapper;
	frappe.call({ method: `${KRAAL_API}.sync_log_failed_records`, args: { sync_log: frm.doc.name } })
		.then(({ message: rows }) => {
			if (!rows.length) {
				wrapper.html(`<p class="text-muted">${__("This run left no failed record open")}</p>`);
				return;
			}
			const esc = frappe.utils.escape_html;
			const body = rows.map((row) => `
				<tr data-name="${esc(row.name)}">
					<td><a href="/app/kraal-failed-record/${encodeURIComponent(row.name)}">${esc(row.entity)} ${esc(row.external_id)}</a></td>
					<td>${__(row.kind)}</td>
					<td><span class="indicator-pill ${RECORD_COLOURS[row.status] || "gray"}">${__(row.status)}</span></td>
					<td>${esc(row.message || "")}</td>
					<td>${row.attempts}</td>
					<td>${row.status === "Open" ? `<button class="btn btn-xs btn-default" data-action="retry">${__("Retry")}</button>` : ""}</td>
				</tr>`).join("");
			wrapper.html(`
				<table class="table table-bordered table-sm">
					<thead><tr><th>${__("Record")}</th><th>${__("Kind")}</th><th>${__("Status Now")}</th>
					<th>${__("Reason")}</th><th>${__("Attempts")}</th><th></th></tr></thead>
					<tbody>${body}</tbody>
				</table>`);
			wrapper.find("button[data-action=retry]").on("click", (event) => {
				const failed_record = $(event.currentTarget).closest("tr").data("name");
				frappe.call({ method: `${KRAAL_API}.retry_failure`, args: { failed_record } })
					.then(({ message }) => frappe.show_alert({ message, indicator: "blue" }));
			});
		});
}
