"""python -m emulators <vendor> --data <dataset dir> --port <port>"""

import argparse
import importlib

EMULATORS = {
	"plaid": "emulators.plaid:PlaidEmulator",
	"qbo": "emulators.qbo:QboEmulator",
	"shopify": "emulators.shopify:ShopifyEmulator",
	"amazon": "emulators.amazon:AmazonEmulator",
}


def main() -> None:
	parser = argparse.ArgumentParser(prog="python -m emulators", description=__doc__)
	parser.add_argument("vendor", choices=sorted(EMULATORS))
	parser.add_argument("--data", required=True, help="dataset directory (see fixtures/<vendor>/README.md)")
	parser.add_argument("--port", type=int, default=0)
	parser.add_argument("--host", default="127.0.0.1")
	args = parser.parse_args()
	module, name = EMULATORS[args.vendor].split(":")
	getattr(importlib.import_module(module), name)(args.data).serve_forever(args.host, args.port)


if __name__ == "__main__":
	main()
