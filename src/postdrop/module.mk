$(eval $(call program,postdrop,bin,global util))
