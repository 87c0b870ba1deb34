"""The portal: server-rendered GOV.UK Design System pages in the same app as the API, for
project managers on site, heads of capital, finance and administrators. Its routes only
turn a request into one call of the application layer and render the result
(`capital.web.portal.mount_portal`, called by `capital.api.create_app`)."""
