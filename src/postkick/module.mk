$(eval $(call program,postkick,bin,global util))
