"""Kraal Account Mapping keeps its integration's company (the link query and the check that a target is
that company's own read it); rows made before it was kept get it from their integration."""

import frappe


def execute():
	frappe.db.sql(
		"""update `tabKraal Account Mapping` m
		join `tabKraal Integration` i on i.name = m.integration
		set m.company = i.company
		where ifnull(m.company, '') = ''"""
	)
