$(eval $(call program,postsuper,bin,global util))
