const KRAAL_API = "kraal_connect.api";
const PLAID_LINK = "kraal_connect.connectors.plaid.link";
const QBO_OAUTH = "kraal_connect.connectors.qbo.oauth";
const SHOPIFY_ENDPOINTS = "kraal_connect.connectors.shopify.endpoints";
const SHOPIFY_OAUTH = "kraal_connect.connectors.shopify.oauth";
const AMAZON_OAUTH = "kraal_connect.connectors.amazon.oauth";
const STATUS_COLOURS = {
	"Not Connected": "gray",
	Active: "green",
	"Needs Attention": "yellow",
	"Needs Re-authentication": "orange",
	Error: "red",
	Disconnected: "gray",
	Success: "green",
	Partial: "orange",
	Failed: "red",
	Running: "blue",
};

frappe.ui.form.on("Kraal Integration", {
	setup() {
		listen_for_finished_syncs();
	},
	refresh(frm) {
		if (frm.is_new()) return;
		frm.page.set_indicator(__(frm.doc.status), STATUS_COLOURS[frm.doc.status]);
		if (frm.doc.status_reason) {
			frm.dashboard.set_headline_alert(frappe.utils.escape_html(frm.doc.status_reason),
				STATUS_COLOURS[frm.doc.status]);
		}
		add_actions(frm);
		render_open_failures(frm);
		render_recent_syncs(frm);
	},
});

// One listener for the session: the end of a run (engine/runner.py publishes it to the integration's
// form) takes its progress dialog to 100% and closes it, and shows the new status, failures and logs.
function listen_for_finished_syncs() {
	if (frappe.kraal_sync_listener) return;
	frappe.kraal_sync_listener = true;
	frappe.realtime.on("kraal_sync_finished", (data) => {
		if (frappe.cur_progress && frappe.cur_progress.title === data.progress) {
			frappe.show_progress(data.progress, 100, 100, __("Finished: {0}", [__(data.status)]), true);
		}
		const frm = window.cur_frm;
		if (!frm || frm.doctype !== "Kraal Integration" || frm.docname !== data.integration) return;
		if (frm.is_dirty()) {
			frappe.show_alert({ message: __("The sync has finished; save or reload to see its results"), indicator: "blue" });
		} else {
			frm.reload_doc();
		}
	});
}

function call(frm, method, args = {}) {
	return frappe.call({ method, args: { integration: frm.doc.name, ...args }, freeze: true })
		.then((r) => {
			frm.reload_doc();
			return r.message;
		});
}

function add_actions(frm) {
	const disconnected = frm.doc.status === "Disconnected";
	if (!disconnected) {
		frm.add_custom_button(__("Sync Now"), () =>
			call(frm, `${KRAAL_API}.sync_now`).then((msg) => frappe.show_alert(msg)));
		frm.add_custom_button(__("Test Connection"), () =>
			call(frm, `${KRAAL_API}.test_connection`).then((msg) =>
				frappe.msgprint({ title: __("Connection"), message: msg, indicator: "green" })),
			__("Actions"));
		frm.add_custom_button(__("Resync from the Start"), () => confirm_resync(frm), __("Actions"));
		frm.add_custom_button(__("Disconnect"), () =>
			frappe.confirm(__("Stop syncing {0}? Links and mappings are kept.", [frm.doc.name]),
				() => call(frm, `${KRAAL_API}.disconnect`)),
			__("Actions"));
	} else {
		frm.add_custom_button(__("Reconnect"), () => call(frm, `${KRAAL_API}.reconnect`));
	}
	if (frm.doc.vendor === "Plaid") {
		const reauth = frm.doc.status === "Needs Re-authentication";
		const label = reauth ? __("Re-authenticate Bank") : frm.doc.external_account ? null : __("Link Bank Account");
		if (label) frm.add_custom_button(label, () => open_plaid_link(frm));
		if (!frm.doc.external_account && can_enter_public_token(frm)) {
			frm.add_custom_button(__("Enter Public Token"), () => ask_public_token(frm), __("Actions"));
		}
		if (frm.doc.external_account) {
			frm.add_custom_button(__("Choose Bank Accounts"), () => choose_bank_accounts(frm), __("Actions"));
		}
	}
	if (frm.doc.vendor === "QuickBooks Online") add_quickbooks_actions(frm);
	if (frm.doc.vendor === "Shopify") {
		add_vendor_connect(frm, __("Shopify"), () => ask_shop(frm));
		add_shopify_actions(frm);
	}
	if (frm.doc.vendor === "Amazon") add_amazon_actions(frm);
	frm.add_custom_button(__("Failed Records"), () =>
		frappe.set_route("List", "Kraal Failed Record", { integration: frm.doc.name, status: "Open" }), __("View"));
	frm.add_custom_button(__("Account Mappings"), () =>
		frappe.set_route("List", "Kraal Account Mapping", { integration: frm.doc.name }), __("View"));
	frm.add_custom_button(__("Sync Logs"), () =>
		frappe.set_route("List", "Kraal Sync Log", { integration: frm.doc.name }), __("View"));
}

function confirm_resync(frm) {
	frappe.confirm(
		[
			__("Clear the cursor of every entity of {0}, so that its next sync reads the vendor's records again from the start (or from Sync From)?", [frappe.utils.escape_html(frm.doc.name)]),
			__("Documents already booked are not duplicated: each one's External Link matches the record to it, and a record that has not changed writes nothing."),
			__("On a large account this takes a while and many API calls. A sync from the start is queued at once."),
		].map((line) => `<p>${line}</p>`).join(""),
		() => call(frm, `${KRAAL_API}.resync_from_start`).then((msg) => frappe.show_alert(msg)),
	);
}

function add_quickbooks_actions(frm) {
	const reauth = frm.doc.status === "Needs Re-authentication";
	if (reauth || !frm.doc.external_account) {
		// Intuit's consent page comes back to the callback, which stores the tokens and returns here.
		frm.add_custom_button(reauth ? __("Reconnect to QuickBooks") : __("Connect to QuickBooks"), () =>
			frappe.call({ method: `${QBO_OAUTH}.authorization_url`, args: { integration: frm.doc.name } })
				.then(({ message: url }) => { window.location.href = url; }));
	}
	frm.add_custom_button(__("QuickBooks Reconciliation"), () =>
		frappe.set_route("query-report", "QuickBooks Reconciliation", { integration: frm.doc.name }), __("View"));
}

function add_shopify_actions(frm) {
	if (frm.doc.status === "Disconnected") return;
	const [label, method] = frm.doc.webhooks_registered
		? [__("Remove Webhooks"), "unregister_webhooks"]
		: [__("Register Webhooks"), "register_webhooks"];
	frm.add_custom_button(label, () =>
		call(frm, `${SHOPIFY_ENDPOINTS}.${method}`).then((msg) => frappe.show_alert(msg)), __("Actions"));
}

// Connect (or connect again: a revoked or expired token, an uninstalled app, new scopes) through the
// vendor's consent page; its callback stores the token and comes back here. Links, mappings and cursors
// stay, so the next sync resumes where the last one stopped.
function add_vendor_connect(frm, vendor, start) {
	const connected = Boolean(frm.doc.external_account);
	const needed = !connected || ["Needs Re-authentication", "Disconnected"].includes(frm.doc.status);
	const label = connected ? __("Reconnect {0}", [vendor]) : __("Connect {0}", [vendor]);
	frm.add_custom_button(label, start, needed ? undefined : __("Actions"));
}

function go_to_consent(method, args) {
	frappe.call({ method, args }).then(({ message: url }) => { window.location.href = url; });
}

function ask_shop(frm) {
	frappe.prompt({
		fieldname: "shop", fieldtype: "Data", label: __("Shop Domain"), reqd: 1,
		default: frm.doc.external_account, description: __("The store's permanent x.myshopify.com domain"),
	}, ({ shop }) => go_to_consent(`${SHOPIFY_OAUTH}.authorization_url`, { integration: frm.doc.name, shop }),
	__("Connect Shopify"), __("Continue to Shopify"));
}

function add_amazon_actions(frm) {
	add_vendor_connect(frm, __("Amazon"), () =>
		go_to_consent(`${AMAZON_OAUTH}.authorization_url`, { integration: frm.doc.name }));
	if (!frm.doc.external_account) return;
	frm.add_custom_button(__("Choose Marketplaces"), () => choose_marketplaces(frm), __("Actions"));
	// Just connected: Amazon listed the seller's marketplaces; the user picks which to sync.
	if (!frm.doc.marketplace_ids && frm.doc.amazon_marketplaces && !frm.marketplaces_offered) {
		frm.marketplaces_offered = true;
		choose_marketplaces(frm);
	}
}

function choose_marketplaces(frm) {
	frappe.call({ method: `${AMAZON_OAUTH}.participating_marketplaces`, args: { integration: frm.doc.name } })
		.then(({ message: listed }) => {
			const chosen = (frm.doc.marketplace_ids || "").split("\n").map((id) => id.trim());
			const dialog = new frappe.ui.Dialog({
				title: __("Marketplaces to Sync"),
				fields: [{
					fieldname: "marketplace_ids", fieldtype: "MultiCheck", label: __("Marketplaces"), reqd: 1,
					description: __("The first ticked in this list is the home marketplace (catalog and FBA inventory)."),
					options: listed.map((m) => ({
						label: frappe.utils.escape_html(`${m.name || m.id} (${m.id}, ${m.currency || ""})`),
						value: m.id,
						checked: chosen.includes(m.id),
					})),
				}],
				primary_action_label: __("Save"),
				primary_action: ({ marketplace_ids }) => {
					dialog.hide();
					call(frm, `${AMAZON_OAUTH}.choose_marketplaces`, { marketplace_ids })
						.then((msg) => frappe.show_alert({ message: msg, indicator: "green" }));
				},
			});
			dialog.show();
		});
}

// Plaid's script comes from Plaid's CDN, which a firewall, a browser extension or an offline machine may
// keep away: it loads with a time limit and an error path, so the page stays usable and says why.
const PLAID_LINK_SCRIPT = "https://cdn.plaid.com/link/v2/stable/link-initialize.js";
const PLAID_SCRIPT_TIMEOUT_MS = 15000;

function load_plaid_script() {
	if (window.Plaid) return Promise.resolve();
	return new Promise((resolve, reject) => {
		const script = document.createElement("script");
		const fail = (reason) => {
			clearTimeout(timer);
			script.remove();
			reject(new Error(reason));
		};
		const timer = setTimeout(() => fail("timeout"), PLAID_SCRIPT_TIMEOUT_MS);
		script.onload = () => (window.Plaid ? (clearTimeout(timer), resolve()) : fail("no Plaid"));
		script.onerror = () => fail("error");
		script.src = PLAID_LINK_SCRIPT;
		document.head.appendChild(script);
	});
}

// Plaid's sandbox hands out public tokens without Link (/sandbox/public_token/create), and the emulator
// has no Link at all: there a person may type one in. A person without the credential fields' permission
// does not see the environment; the server refuses them either way.
function can_enter_public_token(frm) {
	return (frm.doc.environment || "sandbox") === "sandbox" || Boolean(frm.doc.api_base_url);
}

function open_plaid_link(frm) {
	frappe.call({ method: `${PLAID_LINK}.create_link_token`, args: { integration: frm.doc.name } })
		.then(({ message: token }) => load_plaid_script().then(
			() => Plaid.create({
				token,
				// Link lists the accounts the person chose; only they sync.
				onSuccess: (public_token, metadata) =>
					exchange_plaid_token(frm, public_token, ((metadata && metadata.accounts) || []).map((a) => a.id)),
				onExit: (err) => err && frappe.msgprint(err.display_message || err.error_message),
			}).open(),
			() => plaid_script_failed(frm)));
}

function plaid_script_failed(frm) {
	const manual = can_enter_public_token(frm);
	frappe.msgprint({
		title: __("Plaid Link did not load"),
		indicator: "orange",
		message: __("Plaid Link could not be loaded from cdn.plaid.com: this browser has no connection to it, or a firewall or extension blocks it. Nothing was changed; try again when it is reachable.")
			+ (manual ? ` ${__("In sandbox, or against the emulator, you can enter a public token instead.")}` : ""),
		primary_action: manual
			? { label: __("Enter Public Token"), action: () => { frappe.msg_dialog.hide(); ask_public_token(frm); } }
			: undefined,
	});
}

function ask_public_token(frm) {
	frappe.prompt({
		fieldname: "public_token", fieldtype: "Data", label: __("Public Token"), reqd: 1,
		description: __("From Plaid's sandbox (/sandbox/public_token/create), or public-emulator-&lt;item id&gt; against the emulator. It is exchanged as Link's would be; then choose the accounts to sync."),
	}, ({ public_token }) => exchange_plaid_token(frm, public_token.trim()).then(() => choose_bank_accounts(frm)),
	__("Enter Public Token"), __("Link"));
}

function exchange_plaid_token(frm, public_token, account_ids = []) {
	const args = account_ids.length ? { public_token, account_ids } : { public_token };
	return call(frm, `${PLAID_LINK}.exchange_public_token`, args).then((r) => {
		frappe.show_alert({ message: __("Linked {0}", [r.bank]), indicator: "green" });
		return r;
	});
}

function choose_bank_accounts(frm) {
	frappe.call({ method: `${PLAID_LINK}.bank_accounts`, args: { integration: frm.doc.name } })
		.then(({ message: accounts }) => {
			const dialog = new frappe.ui.Dialog({
				title: __("Bank Accounts to Sync"),
				fields: [{
					fieldname: "account_ids", fieldtype: "MultiCheck", label: __("Accounts"), reqd: 1,
					description: __("Only the ticked accounts' transactions sync. An account ticked later is read from its first transaction."),
					options: accounts.map((a) => ({
						label: frappe.utils.escape_html(a.type ? `${a.label} (${a.type})` : a.label),
						value: a.account_id,
						checked: a.chosen,
					})),
				}],
				primary_action_label: __("Save"),
				primary_action: ({ account_ids }) => {
					dialog.hide();
					call(frm, `${PLAID_LINK}.choose_accounts`, { account_ids })
						.then((msg) => frappe.show_alert({ message: msg, indicator: "green" }));
				},
			});
			dialog.show();
		});
}

function render_recent_syncs(frm) {
	const wrapper = frm.get_field("recent_syncs").$wrapper;
	frappe.call({ method: `${KRAAL_API}.recent_sync_logs`, args: { integration: frm.doc.name } })
		.then(({ message: logs }) => {
			if (!logs.length) {
				wrapper.html(`<p class="text-muted">${__("No syncs yet")}</p>`);
				return;
			}
			const rows = logs.map((log) => `
				<tr>
					<td><a href="/app/kraal-sync-log/${encodeURIComponent(log.name)}">${frappe.datetime.str_to_user(log.started)}</a></td>
					<td>${__(log.trigger)}</td>
					<td><span class="indicator-pill ${STATUS_COLOURS[log.status]}">${__(log.status)}</span></td>
					<td>${log.duration ? frappe.utils.get_formatted_duration(log.duration) : ""}</td>
					<td>${log.api_calls || 0}</td>
					<td>${frappe.utils.escape_html(log.summary || "")}</td>
				</tr>`).join("");
			wrapper.html(`
				<table class="table table-bordered table-sm">
					<thead><tr><th>${__("Started")}</th><th>${__("Trigger")}</th><th>${__("Status")}</th>
					<th>${__("Duration")}</th><th>${__("API Calls")}</th><th>${__("Summary")}</th></tr></thead>
					<tbody>${rows}</tbody>
				</table>`);
		});
}

function render_open_failures(frm) {
	const wrapper = frm.get_field("open_failures").$wrapper;
	frappe.call({ method: `${KRAAL_API}.open_failures`, args: { integration: frm.doc.name } })
		.then(({ message: { total, rows } }) => {
			if (!total) {
				wrapper.html(`<p class="text-muted">${__("No open failed records or conflicts")}</p>`);
				return;
			}
			const esc = frappe.utils.escape_html;
			const body = rows.map((row) => `
				<tr data-name="${esc(row.name)}">
					<td><a href="/app/kraal-failed-record/${encodeURIComponent(row.name)}">${esc(row.entity)} ${esc(row.external_id)}</a></td>
					<td><span class="indicator-pill ${row.kind === "Conflict" ? "orange" : "red"}">${__(row.kind)}</span></td>
					<td>${esc(row.message || "")}</td>
					<td>${row.attempts}</td>
					<td>${frappe.datetime.str_to_user(row.last_seen)}</td>
					<td class="text-nowrap">
						<button class="btn btn-xs btn-default" data-action="retry">${__("Retry now")}</button>
						${row.kind === "Conflict" ? `<button class="btn btn-xs btn-default" data-action="apply">${__("Apply source version")}</button>` : ""}
						<button class="btn btn-xs btn-default" data-action="dismiss">${__("Dismiss")}</button>
					</td>
				</tr>`).join("");
			wrapper.html(`
				<div class="flex justify-between align-center mb-2">
					<span>${__("{0} open", [total])}</span>
					<button class="btn btn-xs btn-primary" data-action="retry-all">${__("Retry all")}</button>
				</div>
				<table class="table table-bordered table-sm">
					<thead><tr><th>${__("Record")}</th><th>${__("Kind")}</th><th>${__("Reason")}</th>
					<th>${__("Attempts")}</th><th>${__("Last Seen")}</th><th></th></tr></thead>
					<tbody>${body}</tbody>
				</table>`);
			wrapper.find("button[data-action]").on("click", (event) => {
				const action = $(event.currentTarget).data("action");
				const name = $(event.currentTarget).closest("tr").data("name");
				act_on_failure(frm, action, name);
			});
		});
}

function act_on_failure(frm, action, failed_record) {
	const done = ({ message }) => {
		if (message) frappe.show_alert({ message, indicator: "blue" });
		render_open_failures(frm);
	};
	if (action === "retry-all") {
		frappe.call({ method: `${KRAAL_API}.retry_all_failures`, args: { integration: frm.doc.name } }).then(done);
	} else if (action === "retry") {
		frappe.call({ method: `${KRAAL_API}.retry_failure`, args: { failed_record } }).then(done);
	} else if (action === "apply") {
		frappe.confirm(__("Write the source's version over the document ERPNext holds? ERPNext may still refuse it."),
			() => frappe.call({ method: `${KRAAL_API}.apply_source_version`, args: { failed_record } }).then(done));
	} else if (action === "dismiss") {
		frappe.prompt({ fieldname: "reason", fieldtype: "Small Text", label: __("Why"), reqd: 1 },
			({ reason }) => frappe.call({ method: `${KRAAL_API}.dismiss_failure`, args: { failed_record, reason } }).then(done),
			__("Dismiss failed record"), __("Dismiss"));
	}
}

// -- setting up: discover before booking, defaults a person sees, the company's own records ----------
// Vendors whose first sync reads orders from Sync From; a new integration of theirs starts this far back.
const DATED_VENDORS = ["Shopify", "Amazon"];
const SYNC_FROM_DAYS_BACK = 30;

frappe.ui.form.on("Kraal Integration", {
	setup(frm) {
		// A default warehouse of another company would reserve and move stock in that company's books.
		frm.set_query("default_warehouse", () => ({ filters: { company: frm.doc.company, is_group: 0 } }));
	},
	onload(frm) {
		set_default_sync_from(frm);
	},
	vendor(frm) {
		set_default_sync_from(frm);
	},
	company(frm) {
		if (frm.doc.default_warehouse) frm.set_value("default_warehouse", null);
	},
	refresh(frm) {
		if (frm.is_new() || frm.doc.status === "Disconnected") return;
		frm.add_custom_button(__("Discover"), () => discover_mappings(frm), __("Actions"));
	},
});

function set_default_sync_from(frm) {
	if (!frm.is_new() || frm.doc.sync_start_date || !DATED_VENDORS.includes(frm.doc.vendor)) return;
	frm.set_value("sync_start_date", frappe.datetime.add_days(frappe.datetime.get_today(), -SYNC_FROM_DAYS_BACK));
}

// Reads what the account uses (locations, gateways, taxes, fee types, accounts) and lists every key as a
// mapping row at once, a suggestion filled in where one record obviously fits; nothing is booked.
function discover_mappings(frm) {
	frappe.call({
		method: `${KRAAL_API}.discover`,
		args: { integration: frm.doc.name },
		freeze: true,
		freeze_message: __("Reading what {0} uses…", [frappe.utils.escape_html(frm.doc.vendor)]),
	}).then(({ message: result }) => {
		const open_mappings = () => frappe.set_route("List", "Kraal Account Mapping", { integration: frm.doc.name });
		frappe.msgprint({
			title: __("Discover"),
			indicator: result.empty ? "orange" : "green",
			message: frappe.utils.escape_html(result.message),
			primary_action: { label: __("Open Mappings"), action: () => { frappe.msg_dialog.hide(); open_mappings(); } },
		});
	});
}
