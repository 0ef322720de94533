"""Machine suggestions (pre-annotation): a character-level spaCy pipeline with authority
gazetteers, a 《…》 pattern and a reign-era date reader (sanmiao). See docs/suggest.md."""

from .config import SuggestConfig
from .models import DateReading, LineSuggestions, Span
from .service import SuggestInfo, SuggestionService

__all__ = ["DateReading", "LineSuggestions", "Span", "SuggestConfig", "SuggestInfo", "SuggestionService"]
