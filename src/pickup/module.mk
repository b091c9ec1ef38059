$(eval $(call program,pickup,libexec,global util))
