"""``GET /photos/<id>/<full|thumb>?exp=&sig=``: photo files for holders of a signed URL only.

No signature, a wrong one or an expired one: 403, the same answer whether the photo exists
or not. Responses are private and not cached by shared caches.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from backend.graphql.view import error_response
from backend.photos import urls
from backend.photos.models import Photo
from backend.photos.service import store_for
from backend.photos.storage import PhotoNotFound


async def photo_file_endpoint(request: Request) -> Response:
    settings = request.app.state.settings
    photo_id = request.path_params["photo_id"]
    variant = request.path_params["variant"]
    if not urls.check_signature(settings.signing_key, photo_id, variant, request.query_params.get("exp"),
                                request.query_params.get("sig")):
        return error_response(403, "This photo link is invalid or has expired.")
    photo = await Photo.get_or_none(id=photo_id)
    if photo is None:
        return error_response(404, "Not found.")
    try:
        data = await store_for(settings).get(photo.store_key if variant == "full" else photo.thumb_key)
    except PhotoNotFound:
        return error_response(404, "Not found.")
    return Response(data, media_type="image/jpeg", headers={
        "Cache-Control": f"private, max-age={settings.photo_url_ttl_seconds}",
        "X-Content-Type-Options": "nosniff", "Content-Disposition": "inline",
        "Referrer-Policy": "no-referrer",
    })
