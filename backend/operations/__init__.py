"""Operations: health, metrics and structured logs."""
