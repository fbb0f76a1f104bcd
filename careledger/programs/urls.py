"""Program-facts pages under /programs/. Every view declares its permission."""

app_name = "programs"

urlpatterns: list[object] = []
