"""WebShop evaluation entry points (``python -m eval.webshop.reward``)."""
