// Every document an integration wrote says where it came from: in the form's sidebar, the vendor, the
// record's id there and a link to it in the vendor's admin (Plaid has none: its bank and account).
// The server answers only for a document the user may read; most documents have no source and the
// section stays away.
const KRAAL_OWN_DOCTYPES = ["Kraal Integration", "Kraal External Link", "Kraal Failed Record", "Kraal Sync Log",
	"Kraal Account Mapping"];

$(document).on("form-refresh", (event, frm) => {
	if (frm.is_new() || frm.meta.issingle || frm.meta.istable || KRAAL_OWN_DOCTYPES.includes(frm.doctype)) return;
	const { doctype, docname } = frm;
	frappe.call({
		method: "kraal_connect.kraal_connect.doctype.kraal_external_link.kraal_external_link.document_sources",
		args: { doctype, name: docname },
		type: "GET",
	}).then(({ message: sources }) => {
		// The user may have moved on to another document while this was asked.
		if (frm.doctype !== doctype || frm.docname !== docname) return;
		show_document_sources(frm, sources || []);
	});
});

function show_document_sources(frm, sources) {
	const esc = frappe.utils.escape_html;
	const holder = frm.sidebar ? frm.sidebar.sidebar : null;
	if (!holder) return;
	holder.find(".kraal-sources").remove();
	if (!sources.length) return;
	const rows = sources.map((source) => {
		const vendor_link = source.source_url
			? `<a href="${esc(source.source_url)}" target="_blank" rel="noopener noreferrer">${__("Open in {0}", [esc(source.vendor)])}</a>`
			: "";
		return `
			<li class="kraal-source" data-integration="${esc(source.integration)}">
				<div><b>${esc(source.record_type)}</b></div>
				<div class="text-muted small">${__("ID")}: <span class="kraal-external-id">${esc(source.external_id)}</span></div>
				${source.detail ? `<div class="text-muted small">${esc(source.detail)}</div>` : ""}
				<div class="small"><a href="/app/kraal-integration/${encodeURIComponent(source.integration)}">${esc(source.integration)}</a>
				${vendor_link ? ` · ${vendor_link}` : ""}</div>
			</li>`;
	}).join("");
	$(`<ul class="list-unstyled sidebar-menu kraal-sources">
			<li class="sidebar-label">${__("Synced From")}</li>
			${rows}
		</ul>`).appendTo(holder);
}
