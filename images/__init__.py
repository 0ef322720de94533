"""Page images: checked at validation, turned into tiled pyramids at ingest, served by the IIIF
Image API 3.0 and described by IIIF Presentation 3 manifests (docs/images.md, ADR 0014).

``images.check`` inspects an image within limits (header first, then a streamed decode);
``images.store`` keeps one pyramidal TIFF per service image, addressed by its SHA-256;
``images.iiif`` parses Image API requests and renders them; ``images.presentation`` builds
manifests and collections. Nothing here knows HTTP; libvips (pyvips) does the pixel work.
"""
